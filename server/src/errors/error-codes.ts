/** Every error code the API answers with, and its HTTP status. */
export const ERROR_CODES = {
  bad_request: 400,
  invalid_json: 400,
  invalid_body: 400,
  invalid_channel: 400,
  too_many_channels: 400,
  unauthorized: 401,
  forbidden: 403,
  signature_invalid: 403,
  timestamp_stale: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  /** Well-formed but unusable: a WHIP offer without a codec we take (issue 23). */
  unprocessable: 422,
  /** A tus upload another request (on any replica) holds and did not let go of in time. */
  locked: 423,
  checksum_mismatch: 460,
  rate_limited: 429,
  too_many_connections: 429,
  internal: 500,
  not_implemented: 501,
  bus_unavailable: 503,
  not_ready: 503,
  over_capacity: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
