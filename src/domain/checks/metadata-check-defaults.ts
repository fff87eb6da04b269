// The metadata checks' default warning window, alone in a module of constants so a command line can show it without loading the checks.
export const DEFAULT_WARN_DAYS = 30;
