/**
 * What functions/index.ts tells the Azure Functions host: request bodies streamed to the handlers (so the Run API's
 * 64 KiB limit is counted while reading, not after the host buffered up to 100 MB), and every function registered.
 */
describe('functions/index.ts (the Azure entry point)', () => {
  it('enables HTTP streaming and registers the HTTP functions', () => {
    const setup = jest.fn();
    const http = jest.fn();
    jest.isolateModules(() => {
      jest.doMock('@azure/functions', () => ({
        ...jest.requireActual<object>('@azure/functions'),
        app: { setup, http, timer: jest.fn(), eventGrid: jest.fn(), serviceBusQueue: jest.fn() },
      }));
      require('../../../functions/index');
    });
    expect(setup).toHaveBeenCalledWith(expect.objectContaining({ enableHttpStream: true }));
    expect(http.mock.calls.map((c) => c[0] as string)).toEqual(expect.arrayContaining(['runsCreate', 'databricksWebhook']));
  });
});
