// fake-indexeddb's package exports hide its auto.d.ts; the side-effect import needs no types.
declare module 'fake-indexeddb/auto';
