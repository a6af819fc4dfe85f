// Types for corral-sdk: FastMCP's TypeScript API for Corral plugins.

/** A Standard Schema (zod 4, valibot, arktype) or a plain JSON Schema object. */
export type Schema<T = unknown> =
  | { readonly '~standard': { readonly validate: (value: unknown) => unknown; readonly vendor: string } ; readonly _output?: T }
  | Record<string, unknown>;

type Infer<S> = S extends { readonly '~standard': { readonly types?: { readonly output: infer O } } } ? O : Record<string, unknown>;

export type TextContent = { type: 'text'; text: string };
export type ImageContent = { type: 'image'; data: string; mimeType: string };
export type AudioContent = { type: 'audio'; data: string; mimeType: string };
export type ResourceContent = {
  type: 'resource';
  resource: { uri: string; mimeType?: string; text?: string; blob?: string };
};
export type ResourceLink = { type: 'resource_link'; uri: string; name: string; description?: string; mimeType?: string };
export type Content = TextContent | ImageContent | AudioContent | ResourceContent | ResourceLink;
export type ContentResult = { content: Content[] };

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

export type ElicitResult<T = Record<string, unknown>> =
  | { action: 'accept'; content: T }
  | { action: 'decline'; content?: undefined }
  | { action: 'cancel'; content?: undefined };

/** What a handler receives besides its arguments. */
export interface Context {
  log: Logger;
  session: undefined;
  reportProgress(progress: { progress: number; total?: number; message?: string }): Promise<void>;
  isCancelled(): boolean;
  /** Ask the user; the call is run again with the answer (see the SDK's README). */
  elicit<S extends Schema>(message: string, schema: S): Promise<ElicitResult<Infer<S>>>;
  sample(prompt: string | Array<string | { role: 'user' | 'assistant'; content: Content }>, options?: { systemPrompt?: string; maxTokens?: number }): Promise<{ text?: string; model?: string }>;
  listRoots(): Promise<Array<{ uri: string; name?: string }>>;
}

export interface Tool<P extends Schema = Schema> {
  name: string;
  title?: string;
  description?: string;
  parameters?: P;
  /** The result's schema: an object schema is structured content as it is;
   * any other (`z.number()`) is wrapped as `{ result }`. */
  outputSchema?: Schema;
  annotations?: ToolAnnotations;
  tags?: string[];
  /** Whether the tool may run as an MCP task. */
  task?: boolean | 'optional' | 'required' | 'forbidden';
  execute(args: Infer<P>, context: Context): unknown | Promise<unknown>;
}

export type ResourceResult = { text: string; mimeType?: string; uri?: string } | { blob: string; mimeType?: string; uri?: string };

export interface Resource {
  uri: string;
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  tags?: string[];
  load(context: Context): Promise<ResourceResult | ResourceResult[] | string> | ResourceResult | ResourceResult[] | string;
}

export interface Argument {
  name: string;
  description?: string;
  required?: boolean;
}

export interface ResourceTemplate {
  uriTemplate: string;
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  tags?: string[];
  arguments?: Argument[];
  load(args: Record<string, string>, context: Context): Promise<ResourceResult | ResourceResult[] | string> | ResourceResult | ResourceResult[] | string;
}

export type PromptMessage = { role: 'user' | 'assistant'; content: string | Content };

export interface Prompt {
  name: string;
  title?: string;
  description?: string;
  tags?: string[];
  arguments?: Argument[];
  load(args: Record<string, string>, context: Context): unknown;
}

export interface ServerOptions {
  name: string;
  version?: string;
  instructions?: string;
  [other: string]: unknown;
}

export declare class FastMCP {
  constructor(options: ServerOptions);
  readonly name: string;
  addTool<P extends Schema>(tool: Tool<P>): void;
  addResource(resource: Resource): void;
  addResourceTemplate(template: ResourceTemplate): void;
  addPrompt(prompt: Prompt): void;
  /** A no-op in the component: the host serves the plugin. */
  start(options?: unknown): Promise<void>;
  stop(): Promise<void>;
}

/** A failure the client should see, with its message. */
export declare class UserError extends Error {
  constructor(message: string, extras?: unknown);
}

export declare class NotFoundError extends Error {}
export declare class ArgumentError extends Error {}

export declare function imageContent(input: { buffer: Uint8Array | ArrayBuffer; mimeType?: string } | { data: string; mimeType?: string }): Promise<ImageContent>;
export declare function audioContent(input: { buffer: Uint8Array | ArrayBuffer; mimeType?: string } | { data: string; mimeType?: string }): Promise<AudioContent>;
