import { Command } from 'commander';
import { CliError } from '../errors.js';

/**
 * The main job. The streaming sender (sources, relevance, allocation, codecs, werift transport) is
 * built in the sender issue; until then this command says so instead of pretending to stream.
 */
export function serveCommand(): Command {
  return new Command('serve')
    .description('stream a source to browser receivers over WebRTC (not built yet: only the wire protocol exists so far)')
    .option('--source <path>', 'image, directory, video, camera:/dev/videoN or pan:<image>')
    .option('--query <text>', 'initial query')
    .option('--port <n>', 'HTTP port', '8080')
    .action(() => {
      throw new CliError(
        'serve is not available in this build: the streaming sender, codecs and relevance model are not built yet. ' +
          'What exists: the wire protocol (@mmsc/protocol, see packages/protocol/PROTOCOL.md) and `mmsc decode`.',
        2,
      );
    });
}
