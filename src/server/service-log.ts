// The service's log: one line per event on stderr, `<time> <level> <message>`, never a token or a secret.

export interface ServiceLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function lineLog(write: (line: string) => void, now: () => Date = () => new Date()): ServiceLog {
  const line = (level: string) => (message: string) =>
    write(`${now().toISOString()} ${level} ${message.replace(/\s*\n\s*/g, " ")}\n`);
  return { info: line("info"), warn: line("warn"), error: line("error") };
}
