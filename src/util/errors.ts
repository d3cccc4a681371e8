/**
 * An error meant for the user: the message says what failed and, where there is one, `hint` says
 * what to do next. The CLI prints these without a stack trace and exits with `exitCode`.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "UserError";
  }
}
