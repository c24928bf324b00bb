import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that parses every message it accepts. */
export interface TestSmtp {
  port: number;
  messages: ParsedMail[];
  env(): Record<string, string>;
  waitForMessages(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  stop(): Promise<void>;
}

/** `auth`: the only credentials the server accepts (it then refuses mail without them). */
export async function startTestSmtp(options: { port?: number; auth?: { user: string; pass: string } } = {}): Promise<TestSmtp> {
  const messages: ParsedMail[] = [];
  const { auth } = options;
  const server = new SMTPServer({
    authOptional: !auth,
    // Loopback without TLS: let clients log in in the clear, as a relay on localhost would.
    allowInsecureAuth: true,
    onAuth(login, _session, callback) {
      if (auth && login.username === auth.user && login.password === auth.pass) callback(null, { user: login.username });
      else callback(new Error('535 Authentication failed'));
    },
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          messages.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
  return {
    port,
    messages,
    env: () => ({
      SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', MAIL_FROM: 'keepsake@test.local', MAIL_TO: 'ops@test.local',
      ...(auth ? { SMTP_USER: auth.user, SMTP_PASSWORD: auth.pass } : {}),
    }),
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return messages;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
