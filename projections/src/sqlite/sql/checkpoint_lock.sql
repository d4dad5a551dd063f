-- Inside BEGIN IMMEDIATE: the transaction already holds the database's write lock.
SELECT transaction_id, position FROM projection_checkpoints WHERE name = ?1
