// packages/backend/src/index.ts of a Backstage backend that signs people in
// with Bitbucket Cloud and signin-rules. Copy what you need.
// `npm run test:install` runs this file, as written, in a new backend.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

// A full app (created with @backstage/create-app) also serves its frontend:
//   backend.add(import('@backstage/plugin-app-backend'));
// That plugin needs the app's frontend package (packages/app) installed beside
// the backend; a backend on its own leaves it out.
backend.add(import('@backstage/plugin-catalog-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
// Bitbucket Cloud sign-in with `resolver: rules`. It replaces
// '@backstage/plugin-auth-backend-module-bitbucket-provider': keep only one.
backend.add(import('signin-rules'));
// Optional: your own resolvers, registered through signinRulesResolversExtensionPoint.
// backend.add(import('./myResolvers'));

backend.start();
