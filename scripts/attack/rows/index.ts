/** Every row of issue 14's table, in the order the runner replays them. */
import type { AttackRow } from '../kit/row';
import { row as row01 } from './01-big-sessions';
import { row as row02 } from './02-history-flood';
import { row as row03 } from './03-upload-flood';
import { row as row04 } from './04-message-flood';
import { row as row05 } from './05-many-sockets';
import { row as row06 } from './06-login-flood';
import { row as row07 } from './07-foreign-urls';
import { row as row08 } from './08-dm-order';
import { row as row09 } from './09-utf16-length';
import { row as row10 } from './10-typing';
import { row as row11 } from './11-idle-connections';
import { row as row12 } from './12-garbage-multipart';
import { row as row13 } from './13-metrics';
import { row as row14 } from './14-error-shapes';
import { row as row15 } from './15-directory';
import { row as row16 } from './16-headers';

/**
 * Row 6 comes last: it spends this address's login budget on purpose, and every other row needs
 * a login or two. Row 11 comes just before it: with `--slow` it waits the server's idle timeout.
 */
export const ROWS: readonly AttackRow[] = [
  row01,
  row02,
  row03,
  row04,
  row05,
  row07,
  row08,
  row09,
  row10,
  row12,
  row13,
  row14,
  row15,
  row16,
  row11,
  row06,
];
