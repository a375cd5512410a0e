/** The onerun reference app's programmatic entry point. */
export const APP_NAME = 'onerun';
