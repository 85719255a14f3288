import { expect } from '@open-wc/testing';
import { liveServer, TEST_CHANNEL } from '../testing/live-server.js';
import { before, describe, it } from '../testing/mocha.js';
import { fetchUploadStatus, requestUploadGrant, UploadServerError } from './upload-grant-client.js';

describe('upload grant client, against the real server', () => {
  let endpoint = '';
  before(async () => {
    endpoint = await liveServer.url();
  });

  const request = { channel: TEST_CHANNEL, filename: 'clip.mp4', size: 1000, type: 'video/mp4', source: 'recording' as const };

  it('gets a grant with an absolute tus URL and an upload id whose status is uploading', async () => {
    const grant = await requestUploadGrant(endpoint, request);
    expect(grant.upload_id).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new URL(grant.upload_url).pathname).to.equal('/uploads');
    expect(await fetchUploadStatus(endpoint, grant.upload_id)).to.deep.equal({ status: 'uploading', mp4Url: undefined });
  });

  it('sends clip provenance, and retries without it only when the server names it unknown', async () => {
    const started = Date.now() - 60_000;
    const grant = await requestUploadGrant(endpoint, {
      ...request,
      source: 'recording',
      provenance: { canonical_id: 'stream:acme:morning-show:01HV0000000000000000000000', from: new Date(started).toISOString(), to: new Date(started + 6000).toISOString() },
    });
    expect(grant.upload_id).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('surfaces refusals as UploadServerError with the server code, never retrying them', async () => {
    const cases: Array<[Parameters<typeof requestUploadGrant>[1], number, string]> = [
      [{ ...request, channel: 'acme/nobody-here' }, 404, 'not_found'],
      [{ ...request, filename: '../../etc/passwd' }, 400, 'invalid_body'],
      [{ ...request, filename: 'a\u202egpj.exe' }, 400, 'invalid_body'],
      [{ ...request, type: 'text/html' }, 415, 'unsupported_media_type'],
      [{ ...request, size: 0 }, 400, 'invalid_body'],
      [{ ...request, title: '<script>alert(1)</script>'.repeat(10) }, 400, 'invalid_body'],
    ];
    for (const [body, status, code] of cases) {
      let error: unknown;
      await requestUploadGrant(endpoint, body).catch((caught: unknown) => (error = caught));
      expect(error, JSON.stringify(body)).to.be.instanceOf(UploadServerError);
      expect([(error as UploadServerError).status, (error as UploadServerError).code], JSON.stringify(body)).to.deep.equal([status, code]);
    }
  });

  it('answers 404 for a status of an unknown or malformed upload id', async () => {
    for (const id of ['01HV0000000000000000000000', '../../etc/passwd', '%00', 'x'.repeat(300)]) {
      let error: unknown;
      await fetchUploadStatus(endpoint, id).catch((caught: unknown) => (error = caught));
      expect((error as UploadServerError).status, id).to.equal(404);
    }
  });
});
