"""Text out of the files of requests: the readers (``readers``, pure given the
libraries), the bounded worker processes (``pool``) and the stage that consumes the
documents topic (``stage``)."""
