UPDATE users
SET email = '',
    email_lower = '',
    display_name = '',
    display_name_lower = '',
    status = $2,
    version = $3,
    updated_at = $4
WHERE id = $1
