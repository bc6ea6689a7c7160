// A minimal platform stand-in for the client benchmark: answers every POST with a fixed send result.
import { createServer } from 'node:http';

const body = Buffer.from(
  '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Success</returnstatus><message>ok</message><remainpoint>100</remainpoint><taskID>1234567890123456</taskID><successCounts>1</successCounts></returnsms>',
);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'text/xml; charset=utf-8',
      'content-length': body.length,
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.(server.address().port));
process.on('disconnect', () => process.exit(0));
