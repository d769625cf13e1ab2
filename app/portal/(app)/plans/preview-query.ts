/**
 * Options for the dialogs' price previews (accountPlans.previewChange, .previewCancel):
 * asked afresh each time a dialog opens (the money shown before Confirm is never an
 * answer kept from an earlier opening: a trial may have ended since), so the dialog shows
 * its skeleton until the answer comes, and dropped from the cache once the dialog closes.
 */
export const PREVIEW_QUERY = { staleTime: 0, gcTime: 0 } as const;
