import nodemailer from 'nodemailer';
import type { ReportConfig, SmtpConfig } from '../config';

export interface RenderedReport {
  subject: string;
  html: string;
  text: string;
}

/** `event` (the outbox item's, e.g. backup-failed) becomes the X-Keepsake-Event header, for mail filters. */
export type SendReport = (report: RenderedReport & { event?: string }) => Promise<void>;

/** nodemailer over SMTP, with timeouts: a dead mail server must not hold up a backup for long. */
export function smtpSender(smtp: SmtpConfig, report: Pick<ReportConfig, 'from' | 'to'>): SendReport {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure === 'tls',
    requireTLS: smtp.secure === 'starttls',
    ignoreTLS: smtp.secure === 'none',
    auth: smtp.user ? { user: smtp.user, pass: smtp.password } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return async ({ subject, html, text, event }) => {
    const headers = event && /^[a-z-]+$/.test(event) ? { 'X-Keepsake-Event': event } : undefined;
    await transport.sendMail({ from: report.from, to: [...report.to], subject, html, text, headers });
  };
}

/** What went wrong sending, in words that say what to check. */
export function explainSendError(error: unknown): string {
  const err = error as { code?: string; responseCode?: number; message?: string };
  const hints: Record<string, string> = {
    ECONNREFUSED: 'connection refused: check SMTP_HOST and SMTP_PORT and that the mail server runs',
    ETIMEDOUT: 'timed out: check SMTP_HOST, SMTP_PORT and the firewall',
    EDNS: 'host not found: check SMTP_HOST',
    EAUTH: 'authentication failed: check SMTP_USER and SMTP_PASSWORD',
    ESOCKET: 'connection failed (TLS?): check SMTP_SECURE (starttls, tls or none) and SMTP_PORT',
    EENVELOPE: 'the server refused the sender or recipients: check MAIL_FROM and MAIL_TO',
  };
  // nodemailer reports network errors as ESOCKET; the errno in the message is the better clue.
  const errno = /\b(ECONNREFUSED|ETIMEDOUT|ENOTFOUND)\b/.exec(err.message ?? '')?.[1];
  const hint = (errno && hints[errno === 'ENOTFOUND' ? 'EDNS' : errno]) ?? (err.code ? hints[err.code] : undefined);
  return hint ? `${hint} (${err.message ?? err.code})` : (err.message ?? String(error));
}
