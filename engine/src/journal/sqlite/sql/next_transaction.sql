-- Takes the next transaction id (shared by every batch of this append).
UPDATE journal_transactions
SET last_transaction_id = last_transaction_id + 1
WHERE singleton = 1
RETURNING last_transaction_id
