import { LinkInvalid } from '@/app/(hosted)/shell';

/** A bad, changed or expired link: a designed page, answered 404. */
export default function NotFound() {
  return <LinkInvalid />;
}
