-- AgentDesk schema for PostgreSQL, part 6: grain-state payloads compressed with lz4.
-- A position's or an account's JSON is often several kilobytes, which PostgreSQL compresses on every write. Its default
-- (pglz) is slow: with lz4 the fan-out benchmark on PostgreSQL (10,000 subscribers) went from 2.5 s to 1.7 s.
-- Only values written from now on use lz4; older ones stay readable as they are.
-- The change is made once. It needs a brief exclusive lock on OrleansStorage, so it waits at most 3 s for one: behind
-- a long holder (a backup, a report) every grain read of the running silos would queue behind it. If it cannot have
-- the lock, or the role does not own the table, or the server was built without lz4, the silo starts anyway with pglz
-- and the next start tries again.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = 'orleansstorage'::regclass AND attname = 'payloadbinary' AND attcompression <> 'l') THEN
        PERFORM set_config('lock_timeout', '3s', true);
        ALTER TABLE OrleansStorage ALTER COLUMN PayloadBinary SET COMPRESSION lz4;
    END IF;
EXCEPTION
    WHEN lock_not_available THEN
        RAISE NOTICE 'OrleansStorage is busy: grain state stays compressed with pglz until a later start.';
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'This role does not own OrleansStorage: grain state stays compressed with pglz.';
    WHEN feature_not_supported THEN
        RAISE NOTICE 'This PostgreSQL has no lz4: grain state stays compressed with pglz.';
END $$;
