-- A neutralized copy must neither hold production credentials nor talk to partners.
UPDATE logistics_sync_secret SET ciphertext = NULL, hint = NULL;
UPDATE logistics_sync_system SET state = 'paused';
