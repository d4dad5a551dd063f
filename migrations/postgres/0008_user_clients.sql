-- A user may belong to one of the tenant's clients (issue 15): `UserClientChanged` sets or
-- clears it; a client's deletion clears it for its users.
ALTER TABLE users ADD COLUMN client_id UUID NULL;
