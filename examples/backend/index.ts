// packages/backend/src/index.ts of a Backstage app that signs people in
// with Bitbucket Cloud and signin-rules. Copy what you need.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-catalog-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
// Bitbucket Cloud sign-in with `resolver: rules`. It replaces
// '@backstage/plugin-auth-backend-module-bitbucket-provider': keep only one.
backend.add(import('signin-rules'));
// Optional: your own resolvers, registered through signinRulesResolversExtensionPoint.
// backend.add(import('./myResolvers'));

backend.start();
