// Who is signed in (from GET /v1/whoami); the server still authorizes every call.
export interface Me {
  user: string;
  role: string;
}
export const session: { me: Me | null } = { me: null };
