DELETE FROM timers WHERE tenant_id = ?1 AND kind = ?2
