"""template.yaml for one compute mode: what CloudFormation's AWS::LanguageExtensions transform makes of it before the
Serverless transform runs, once the ComputeMode parameter is known. Every `Fn::If` on the ManagedInstances condition
is resolved (an `AWS::NoValue` branch removes its key), a resource on that condition is kept without it in
managed-instances and left out in classic, and the LanguageExtensions transform is dropped; nothing else changes. cfn-lint and `sam validate` read `Fn::If` in SAM properties as both branches at once, so the test command
lints each mode's template (scripts/template-modes); scripts/sam-local-template runs the classic one locally."""

CONDITION = "ManagedInstances"
MODES = ("classic", "managed-instances")
_REMOVE = object()


def _resolve(node, managed):
    if isinstance(node, dict):
        if set(node) == {"Fn::If"} and isinstance(node["Fn::If"], list) and node["Fn::If"][0] == CONDITION:
            _, when_managed, when_classic = node["Fn::If"]
            chosen = when_managed if managed else when_classic
            return _REMOVE if chosen == {"Ref": "AWS::NoValue"} else _resolve(chosen, managed)
        resolved = {key: _resolve(value, managed) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _REMOVE}
    if isinstance(node, list):
        return [item for item in (_resolve(item, managed) for item in node) if item is not _REMOVE]
    return node


def for_mode(template, mode):
    """`template` (as SAM's yaml_parse reads it) in `mode`, one of MODES."""
    if mode not in MODES:
        raise ValueError(f"compute mode {mode!r} is not one of {MODES}")
    managed = mode == "managed-instances"
    resolved = _resolve(template, managed)
    resources = resolved.get("Resources", {})
    for logical_id in [key for key, resource in resources.items() if resource.get("Condition") == CONDITION]:
        if managed:
            del resources[logical_id]["Condition"]
        else:
            del resources[logical_id]
    resolved.get("Conditions", {}).pop(CONDITION, None)
    transform = resolved.get("Transform")
    if isinstance(transform, list):
        transform = [name for name in transform if name != "AWS::LanguageExtensions"]
        resolved["Transform"] = transform[0] if len(transform) == 1 else transform
    resolved.setdefault("Parameters", {}).get("ComputeMode", {})["Default"] = mode
    return resolved
