// Public API of @onerun/ensemble: filled in by its issue.
export {};
