/** A Jobs API error as Databricks sends it: HTTP status + {"error_code", "message"}. */
export class DatabricksErrorResponse extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'DatabricksErrorResponse';
  }
}

export const invalid = (message: string): DatabricksErrorResponse => new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', message);
