"""One async function per user intent: one transaction, frozen results, no telegram."""
