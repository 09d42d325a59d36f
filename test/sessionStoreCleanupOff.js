// With auth.session.secret (OIDC, Auth0), the auth plugin keeps sessions with connect-session-knex, whose
// cleanup runs every minute and is never stopped when the backend stops: on a stopped backend's database it
// fails, unhandled, in whatever test runs next in the worker. Its cleanup is off in every test file (set up
// before any file loads the auth plugin); the sessions themselves are the real store's.
jest.mock('connect-session-knex', () => {
  const actual = jest.requireActual('connect-session-knex');
  return session => {
    const Store = actual(session);
    return class extends Store {
      constructor(options) {
        super({ ...options, disableDbCleanup: true });
      }
    };
  };
});
