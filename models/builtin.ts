/** Registers the built-in implementation models with the engine. */
export {};
