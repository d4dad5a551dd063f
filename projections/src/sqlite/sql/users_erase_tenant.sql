-- Every person of the tenant is erased. The event is on the tenant's stream: versions stay;
-- rows erased before keep their time.
UPDATE users
SET email = '',
    email_lower = '',
    display_name = '',
    display_name_lower = '',
    updated_at = CASE WHEN status = ?2 THEN updated_at ELSE ?3 END,
    status = ?2
WHERE tenant_id = ?1
