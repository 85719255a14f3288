import { request as httpRequest } from 'node:http';

export interface RawGetResponse {
  readonly status: number;
  /** `Content-Type`, or '' when there is none. */
  readonly type: string;
  /** The body decoded as UTF-8. */
  readonly body: string;
}

/**
 * A GET with the path sent exactly as written: `fetch` would normalize `..` and `%2e` and
 * re-encode the query, which is what hostile-path tests must get past.
 */
export function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<RawGetResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path, method: 'GET', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}
