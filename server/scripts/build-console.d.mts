// Types of build-console.mjs, for the TypeScript that calls it (tests' globalSetup, one-box).
export declare const CONSOLE_DIR: string;
export declare const CONSOLE_DIST: string;
export declare function consoleDigest(): string;
export declare function initialJsSize(dist?: string): { raw: number; gzip: number; files: string[] };
export declare function ensureConsoleBuilt(opts?: {
  force?: boolean;
  log?: (line: string) => void;
}): Promise<{ built: boolean; dir: string }>;
