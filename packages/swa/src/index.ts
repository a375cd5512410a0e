// Public API of @onerun/swa: filled in by its issue.
export {};
