// Workflow-safe: only @temporalio/common, so workflows can import these keys for upsertSearchAttributes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** What defineSearchAttributeKey returns; the SDK does not export the type from its index. */
export interface SearchAttributeKey<T extends SearchAttributeType = SearchAttributeType> {
  name: string;
  type: T;
}

/** What the Web UI can filter leadsync runs by. The dev server registers them at start; a cluster needs them added. */
export const LeadsyncVendor = defineSearchAttributeKey('LeadsyncVendor', SearchAttributeType.KEYWORD);
export const LeadsyncAccount = defineSearchAttributeKey('LeadsyncAccount', SearchAttributeType.KEYWORD);
export const LeadsyncSource = defineSearchAttributeKey('LeadsyncSource', SearchAttributeType.TEXT);
export const LeadsyncState = defineSearchAttributeKey('LeadsyncState', SearchAttributeType.KEYWORD);

/** Temporal's own: the schedule that started a workflow, set on each run a schedule starts. */
export const TemporalScheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

export const LEADSYNC_SEARCH_ATTRIBUTES: readonly SearchAttributeKey[] = [
  LeadsyncVendor,
  LeadsyncAccount,
  LeadsyncSource,
  LeadsyncState,
];

/** The spelling `temporal server start-dev --search-attribute Name=Type` expects for each SDK type. */
export const CLI_SEARCH_ATTRIBUTE_TYPES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};
