// The service's errors as HTTP answers: every failure is `{ error: "..." }` with one message saying what
// was wrong and what to send instead, and a 4xx status for anything the client can fix. Fastify's and
// @fastify/multipart's own errors (body too large, unknown content type, too many files) are reworded here.

/** An error with the HTTP status it is answered with. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'] as const;

/** What the error handler needs to word the limits. */
export interface ErrorContext {
  bodyLimit: number;
  maxFiles: number;
}

export const megabytes = (bytes: number) => `${Number((bytes / 1e6).toFixed(3))} MB`;

/** The status and message a thrown error is answered with. */
export function httpErrorOf(
  error: Error & { code?: string; statusCode?: number },
  contentType: string | undefined,
  limits: ErrorContext,
): HttpError {
  if (error instanceof HttpError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new HttpError(
        413,
        `the image is larger than the limit of ${megabytes(limits.bodyLimit)} (--body-limit); send a smaller image`,
      );
    case 'FST_FILES_LIMIT':
      return new HttpError(
        413,
        `the request holds more than ${limits.maxFiles} files (--max-files); send fewer images per request`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new HttpError(
        415,
        `the content type ${contentType ? `'${contentType}'` : '(none)'} is not accepted; send the image as the body ` +
          `with Content-Type ${ACCEPTED_TYPES.join(', ')}, or as files of a multipart/form-data body`,
      );
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Malformed requests Fastify or busboy refuse (bad Content-Length, a broken multipart body...).
    return new HttpError(status, `the request is malformed: ${error.message}`);
  }
  return new HttpError(500, `internal error: ${error.message}`);
}
