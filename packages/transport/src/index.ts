// Filled by this package's own issue.
export {};
