// `npm run bench`: every benchmark in one run, each printing ratios against its naive baseline.
await import('./storage.ts');
console.log();
await import('./cold-init.ts');
console.log();
await import('./cli.ts');
console.log();
await import('./api.ts');
console.log();
await import('./scale.ts');
