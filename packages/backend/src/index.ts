// Public API of @onerun/backend: filled in by its issue.
export {};
