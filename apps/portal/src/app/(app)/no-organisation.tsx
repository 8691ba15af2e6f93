export function NoOrganisation() {
  return (
    <div className="panel" data-testid="no-organisation">
      <h1>No organisation</h1>
      <p className="muted">
        Your account is not a member of any organisation yet. Ask an owner to invite you, or sign up
        a new organisation.
      </p>
    </div>
  );
}
