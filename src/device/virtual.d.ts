/**
 * Modules the device build provides (see src/cli/bundle.ts); they exist only
 * inside a bundle. A device entry (examples/<app>/device.ts) imports them.
 */

/** The board profile chosen with `--board`: one entry builds for every board. */
declare module 'ringnet:board' {
  const board: import('../../boards/profile.js').BoardProfile;
  export default board;
}

/** Build-time settings given as `--set key=value` (numbers where the value is numeric); empty by default. */
declare module 'ringnet:settings' {
  const settings: { [key: string]: string | number | undefined };
  export default settings;
}
