/** One floor of main/: rooms that may import the floors below, never each other. */
export interface Floor {
  readonly name: string;
  /** What the floor is for, in one line. */
  readonly why: string;
  /** Each room (a folder of main/) and what it holds. */
  readonly rooms: Readonly<Record<string, string>>;
}

/** The floors of main/, from the ground up. */
export declare const FLOORS: ReadonlyArray<Floor>;

/** Every room, from the ground floor up. */
export declare const ROOMS: ReadonlyArray<string>;

/** The floor a room is on (its index in FLOORS), or undefined for a folder that is not a room. */
export declare function floorOf(room: string): number | undefined;

/** The rooms a room may import: every room on a lower floor. */
export declare function roomsBelow(room: string): string[];

/** The rooms a room must not import: the others on its floor and every room above. */
export declare function roomsNotBelow(room: string): string[];
