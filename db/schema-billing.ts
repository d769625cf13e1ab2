// Tables of the billing domain (issue 4).
export {};
