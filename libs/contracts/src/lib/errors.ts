/** RFC 9457 problem details, the error body of every management API. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** stable machine-readable code, e.g. `tenant_not_found` */
  code: string;
  instance?: string;
  /** field-level validation messages */
  errors?: string[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** OpenAI's error body, used by the proxy's OpenAI surface. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
