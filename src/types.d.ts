// passport-bitbucket-oauth2 ships no types; the strategy is a passport-oauth2 one.
declare module 'passport-bitbucket-oauth2' {
  import type { Strategy as PassportStrategy } from 'passport';
  export class Strategy extends PassportStrategy {
    constructor(options: Record<string, unknown>, verify: (...args: any[]) => void);
  }
}
