/** The variable passphrase-worker reads its passphrase from (and removes at once): never argv. */
export const PASSPHRASE_VARIABLE = 'KEEPSAKE_AGE_PASSPHRASE';
