// Orleans has an enum of the same name in its implicit usings; in this project ErrorCode is always the catalogue's.
global using ErrorCode = AgentDesk.Domain.Common.ErrorCode;
