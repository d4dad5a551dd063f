//! Just enough protobuf to find a request's tenant: the gRPC frame header and a scan of the
//! message's top-level fields for one length-delimited field.

/// The message of an uncompressed gRPC frame (`flag(1) ‖ length(4, big endian) ‖ message`);
/// `None` when the body is not exactly one such frame.
pub(crate) fn grpc_message(body: &[u8]) -> Option<&[u8]> {
    let (&flag, rest) = body.split_first()?;
    if flag != 0 || rest.len() < 4 {
        return None;
    }
    let (len, message) = rest.split_at(4);
    let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
    (message.len() == len).then_some(message)
}

/// The value of top-level field `field` when it is a UTF-8 string (the last occurrence wins,
/// as when protobuf merges); `None` when absent, malformed, or not a string.
pub(crate) fn string_field(message: &[u8], field: u32) -> Option<&str> {
    let mut rest = message;
    let mut found = None;
    while !rest.is_empty() {
        let (key, after) = varint(rest)?;
        rest = after;
        let number = u32::try_from(key >> 3).ok()?;
        match key & 7 {
            0 => rest = varint(rest)?.1,
            1 => rest = rest.get(8..)?,
            2 => {
                let (len, after) = varint(rest)?;
                let len = usize::try_from(len).ok()?;
                let value = after.get(..len)?;
                if number == field {
                    found = Some(std::str::from_utf8(value).ok()?);
                }
                rest = after.get(len..)?;
            }
            5 => rest = rest.get(4..)?,
            _ => return None,
        }
    }
    found
}

/// A base-128 varint and what follows it.
fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use entity_proto::v1 as pb;
    use prost::Message;

    use super::*;

    fn framed(message: &impl Message) -> Vec<u8> {
        let bytes = message.encode_to_vec();
        let mut body = vec![0];
        body.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        body.extend_from_slice(&bytes);
        body
    }

    #[test]
    fn finds_the_tenant_among_other_fields() {
        let request = pb::UpdateOrganizationRequest {
            options: Some(pb::MutationOptions {
                request_id: "r-1".into(),
                expected_version: Some(3),
            }),
            tenant_id: "01a2-tenant".into(),
            organization_id: "org".into(),
            organization: Some(pb::OrganizationUpdate {
                name: "n".into(),
                description: "d".into(),
            }),
            update_mask: None,
        };
        let body = framed(&request);
        let message = grpc_message(&body).unwrap();
        assert_eq!(string_field(message, 2), Some("01a2-tenant"));
        assert_eq!(string_field(message, 3), Some("org"));
        assert_eq!(string_field(message, 9), None);
        let get = framed(&pb::GetTenantRequest {
            tenant_id: "t".into(),
            consistency_token: "ct1.1.1".into(),
        });
        assert_eq!(string_field(grpc_message(&get).unwrap(), 1), Some("t"));
    }

    #[test]
    fn garbage_is_not_a_tenant() {
        assert_eq!(grpc_message(&[]), None);
        assert_eq!(grpc_message(&[1, 0, 0, 0, 0]), None, "compressed");
        assert_eq!(grpc_message(&[0, 0, 0, 0, 5, 1]), None, "short");
        assert_eq!(string_field(&[0x0a, 0x05, b'a'], 1), None, "truncated");
        assert_eq!(
            string_field(&[0x0a, 0x02, 0xff, 0xfe], 1),
            None,
            "not UTF-8"
        );
        assert_eq!(string_field(&[0x0b], 1), None, "group wire type");
        assert_eq!(string_field(&[0xff; 12], 1), None, "endless varint");
        // the last occurrence wins
        assert_eq!(
            string_field(&[0x0a, 0x01, b'a', 0x0a, 0x01, b'b'], 1),
            Some("b")
        );
    }
}
