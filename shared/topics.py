"""Topic names. The topic carries the contract version: a breaking change is a new topic."""

from shared.events import CLASSIFIED_V1, DEADLETTER_V1, RECEIVED_V1

RECEIVED = RECEIVED_V1
CLASSIFIED = CLASSIFIED_V1
DEADLETTER = DEADLETTER_V1
