import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { OperatorFunction } from 'rxjs';
import type { RawMessage } from './event.js';
import { operate } from './operate.js';
import { recordingLine } from './recordedMessage.js';

export interface ToRecordingOptions {
  /** Append to an existing file instead of replacing it (default false). */
  append?: boolean;
}

/**
 * Record raw messages (single or arrival batches) to a JSON Lines file of {@link RecordedMessage}s and pass
 * them on unchanged. Each emission is written with one `write` call, so a line is never split between two
 * messages' writes. On complete the file is flushed and closed before the output completes, so a finished
 * stream means a complete recording; on error or unsubscribe what was written so far is flushed and closed.
 * A write error errors the stream. How values are stored (parsed JSON, raw text, `$binary`) is described at
 * {@link recordedValue}; lines are built by {@link recordingLine}, which never recurses on a value's depth.
 *
 * RxJS has no backpressure: if the source outpaces the disk, Node buffers the lines in memory.
 *
 * @example
 * fromKafka(opts).pipe(toRecording('topic.jsonl')).subscribe()
 */
export function toRecording<T extends RawMessage | readonly RawMessage[]>(
  path: string,
  options: ToRecordingOptions = {},
): OperatorFunction<T, T> {
  return operate<T, T>((out) => {
    mkdirSync(dirname(path), { recursive: true });
    let failed = false;
    const stream: WriteStream = createWriteStream(path, { flags: options.append ? 'a' : 'w' });
    stream.on('error', (err) => {
      failed = true;
      out.error(err);
    });

    return {
      next(value) {
        let text = '';
        if (Array.isArray(value))
          for (const m of value as readonly RawMessage[]) text += recordingLine(m) + '\n';
        else text = recordingLine(value as RawMessage) + '\n';
        stream.write(text);
        out.next(value);
      },
      complete() {
        stream.end(() => {
          if (!failed) out.complete();
        });
      },
      finalize() {
        if (!stream.writableEnded && !stream.destroyed) stream.end();
      },
    };
  });
}
