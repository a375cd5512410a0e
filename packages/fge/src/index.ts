// Public API of @onerun/fge: filled in by its issue.
export {};
