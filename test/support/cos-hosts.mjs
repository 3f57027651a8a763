// Test-only name resolution for Tencent COS host names: every `*.myqcloud.com` name (the COS
// bucket hosts BUCKET-APPID.cos.REGION.myqcloud.com, whose bucket part changes per test) resolves
// to 127.0.0.1, where the COS test gateway (cos-gateway.ts) listens. /etc/hosts has no wildcards,
// so the tests load this module instead: imported by the gateway in the test process, and
// preloaded with `node --import` into every cosync process a test starts (cosGatewayAccess().env).
// Everything else resolves as usual. TLS still checks the gateway's certificate, which the test CA
// issued for *.cos.REGION.myqcloud.com, so clients see the real COS address form end to end.
import dns from 'node:dns';

const COS_HOST = /(^|\.)myqcloud\.com\.?$/i;
const resolveNormally = dns.lookup;

if (resolveNormally.cosyncTestHosts !== true) {
  const lookup = function (hostname, options, callback) {
    const done = typeof options === 'function' ? options : callback;
    const settings = typeof options === 'function' || options === undefined ? {} : typeof options === 'number' ? { family: options } : options;
    if (typeof hostname !== 'string' || !COS_HOST.test(hostname)) return resolveNormally.call(dns, hostname, options, callback);
    if (settings.all === true) process.nextTick(done, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(done, null, '127.0.0.1', 4);
    return undefined;
  };
  lookup.cosyncTestHosts = true;
  // net.connect reads dns.lookup at each connection, so replacing the property is enough.
  dns.lookup = lookup;
}
