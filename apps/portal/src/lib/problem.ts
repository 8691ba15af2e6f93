import type { ProblemDetails } from '@tollgate/contracts';

/** Which backend a call went to; named in messages when it cannot be reached. */
export type ServiceName = 'accounts' | 'billing';

/** A failed backend call, carrying the problem details to show to the user. */
export class ApiError extends Error {
  constructor(readonly problem: ProblemDetails) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }
}

/** What a form or page shows for a failure. Plain data, so it can cross to client components. */
export interface ProblemView {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: string[];
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request too large',
  422: 'Unprocessable request',
  429: 'Too many requests',
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Service timed out',
};

export function defaultTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server error' : 'Request failed');
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function stringList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v
    .filter((x): x is string => typeof x === 'string' && x.trim() !== '')
    .map((x) => x.trim());
  return out.length ? out : undefined;
}

/**
 * Turns an error response into problem details, whatever its body: RFC 9457 JSON from our services,
 * a framework's `{statusCode,message,error}`, plain text, HTML from a proxy in between, or nothing.
 * The response status always wins over a status claimed by the body.
 */
export function problemFromResponseBody(
  status: number,
  contentType: string | null,
  bodyText: string,
): ProblemDetails {
  const base: ProblemDetails = {
    type: 'about:blank',
    title: defaultTitle(status),
    status,
    code: `http_${status}`,
  };
  const looksJson = /json/i.test(contentType ?? '') || /^\s*[{[]/.test(bodyText);
  if (looksJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyText);
    } catch {
      parsed = undefined;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const body = parsed as Record<string, unknown>;
      const message = body.message;
      const errors = stringList(body.errors) ?? stringList(message);
      const detail = nonEmptyString(body.detail) ?? nonEmptyString(message) ?? errors?.join('; ');
      const problem: ProblemDetails = {
        type: nonEmptyString(body.type) ?? base.type,
        title: nonEmptyString(body.title) ?? nonEmptyString(body.error) ?? base.title,
        status,
        code: nonEmptyString(body.code) ?? base.code,
      };
      if (detail !== undefined) problem.detail = detail;
      if (errors !== undefined) problem.errors = errors;
      return problem;
    }
    // JSON we cannot make sense of is not worth showing to a person
    return base;
  }
  const text = bodyText.trim();
  if (text !== '' && !/^</.test(text)) {
    return { ...base, detail: text.length > 300 ? `${text.slice(0, 300)}…` : text };
  }
  return base;
}

export function unreachableProblem(service: ServiceName, timedOut: boolean): ProblemDetails {
  return timedOut
    ? {
        type: 'about:blank',
        title: `The ${service} service did not answer in time`,
        status: 504,
        code: 'backend_timeout',
        detail: 'Nothing was changed on our side that we know of. Try again in a moment.',
      }
    : {
        type: 'about:blank',
        title: `The ${service} service is unavailable`,
        status: 503,
        code: 'backend_unreachable',
        detail: 'It could not be reached. Try again in a moment.',
      };
}

/** Anything thrown while talking to a backend, as something safe to show. Internals never leak. */
export function toProblemView(err: unknown): ProblemView {
  if (err instanceof ApiError) {
    const { status, code, title, detail, errors } = err.problem;
    const view: ProblemView = { status, code, title };
    if (detail !== undefined) view.detail = detail;
    if (errors !== undefined && errors.length) view.errors = [...errors];
    return view;
  }
  return {
    status: 500,
    code: 'portal_error',
    title: 'Something went wrong',
    detail: 'The portal could not complete this request. Try again in a moment.',
  };
}

/**
 * The lines to display: the title as the headline, then one line per field error, or else the detail.
 * Our services also put the joined field messages in `detail`, so with `errors` present it is not repeated.
 */
export function problemLines(view: ProblemView): { headline: string; lines: string[] } {
  if (view.errors && view.errors.length) return { headline: view.title, lines: view.errors };
  if (view.detail && view.detail !== view.title)
    return { headline: view.title, lines: [view.detail] };
  return { headline: view.title, lines: [] };
}

/** A problem raised by the portal's own input checks, before any backend call. */
export function validationProblem(errors: string[]): ProblemView {
  return { status: 400, code: 'validation_failed', title: 'Please correct the form', errors };
}
